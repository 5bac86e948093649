#!/bin/sh
# make-man.sh HELP2MAN PROGRAM OUTPUT: PROGRAM's man page, from its own
# --help and --version (help2man), so the page cannot drift from the program.
# NAME is "PROGRAM - " and the first sentence of the description, the line
# after the usage lines of --help; SEE ALSO names the other pages.
set -eu
help2man=$1
program=$2
output=$3
name=$(basename "$program")
# The build's environment is not the program's: no DIVVY_* settings.
for variable in $(env | sed -n 's/^\(DIVVY_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$variable"
done
LC_ALL=C
export LC_ALL
summary=$("$program" --help | sed -n '/^Usage:/d; /^[A-Z]/{s/[:.] .*//; s/[.:]$//; p; q;}')
[ -n "$summary" ] || { echo "make-man: $program --help has no description" >&2; exit 1; }
see_also=$(mktemp)
trap 'rm -f "$see_also"' EXIT
{
    printf '[SEE ALSO]\n'
    pages=''
    for page in divvy divvy-sink divvy-worker divvy-ventilator divvy-keygen; do
        [ "$page" = "$name" ] || pages="$pages${pages:+, }\\fB$page\\fR(1)"
    done
    printf '%s\n' "$pages"
} >"$see_also"
# The first line of --version only ("PROGRAM (divvy) VERSION"): the next one
# names the libraries of the machine that built the page, not the reader's.
version=$("$program" --version | sed -n 1p)
exec "$help2man" --no-info --section=1 --name="$summary" --include="$see_also" \
    --version-string="$version" --output="$output" "$program"
