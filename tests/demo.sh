#!/bin/bash
# The README's main job. Today: can this kernel run ehttp?
set -u
cd "$(dirname "$0")/.."
exec build/ehttp check
