#!/bin/sh
# Fake test for the runner self-tests: complete, with its plan.
echo "TAP version 13"
echo "ok 1 first"
echo "ok 2 second # SKIP not here"
echo "1..2"
