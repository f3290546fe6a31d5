#!/bin/bash
# make demo: boot the test VM and run the guided demo inside it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
exec scripts/vm-run.sh --timeout 300 -- scripts/demo-guest.sh
