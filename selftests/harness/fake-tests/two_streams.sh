#!/bin/sh
# Fake test: two KTAP streams, each with its plan (held to the sum).
echo "1..1"
echo "ok 1 inner"
echo "ok 1 outer"
echo "ok 2 outer"
echo "1..2"
