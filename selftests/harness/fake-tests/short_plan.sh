#!/bin/sh
# Fake test: plans 3 results, prints 2, exits 0.
echo "1..3"
echo "ok 1 first"
echo "ok 2 second"
