#!/bin/sh
# divvy: the image's entrypoint, installed as /usr/local/bin/divvy.
#
#   divvy ventilator|worker|sink [OPTION]...   run that role (exec: it becomes PID 1)
#   divvy keygen [--force] PATH...             make CURVE certificates (divvy-keygen)
#   divvy --help                               this text
#
# The role is the first argument; everything after it goes to the program
# unchanged, and DIVVY_* variables reach it as they are. The script `exec`s
# the program, so the program itself is PID 1 in the container and receives
# `docker stop`'s SIGTERM directly (it exits 143 after a clean shutdown).
# An unknown role is one line on stderr and exit 2, like a bad option.
set -eu

usage() {
    cat <<'EOF'
Usage: divvy ROLE [OPTION]...
Run one divvy program; ROLE is ventilator, worker, sink or keygen.

  divvy sink [--quiet] [--json] ...        gather, check and print the results
  divvy ventilator [--count N] ...         hand out the tasks
  divvy worker [--tasks ENDPOINT] ...      square them
  divvy keygen PATH...                     make CURVE certificates PATH, PATH_secret

Each program takes --help and --version, and reads every option --some-name
from the variable DIVVY_SOME_NAME as well (a flag wins).
EOF
}

case ${1-} in
    ventilator | worker | sink)
        role=$1
        shift
        exec "/usr/local/bin/$role" "$@"
        ;;
    keygen)
        shift
        exec /usr/local/bin/divvy-keygen "$@"
        ;;
    -h | --help | help)
        usage
        exit 0
        ;;
    '')
        echo "divvy: missing role: ventilator, worker, sink or keygen (try --help)" >&2
        exit 2
        ;;
    *)
        echo "divvy: unknown role '$1': expected ventilator, worker, sink or keygen (try --help)" >&2
        exit 2
        ;;
esac
