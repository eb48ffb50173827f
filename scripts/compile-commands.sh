#!/usr/bin/env bash
# Writes compile_commands.json for editors: compile_commands.sh "FLAGS" FILE...
set -eu
flags=$1; shift
dir=$(pwd)
echo "["
sep=""
for f in "$@"; do
    printf '%s  {"directory": "%s", "file": "%s", "command": "%s -c %s"}' "$sep" "$dir" "$f" "$flags" "$f"
    sep=$',\n'
done
printf '\n]\n'
