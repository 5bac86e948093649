# bash completion for divvy (installed as share/bash-completion/completions/divvy).
# Subcommands come from `divvy --help`, a subcommand's options from its own
# --help: nothing here to keep in step with the programs.

_divvy() {
    local current=${COMP_WORDS[COMP_CWORD]}
    local program=${COMP_WORDS[0]}
    local subcommands
    subcommands=$("$program" --help 2>/dev/null |
        sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$subcommands --help --version" -- "$current")
        return
    fi
    local subcommand=${COMP_WORDS[1]}
    if [[ $subcommand == help ]]; then
        ((COMP_CWORD == 2)) &&
            mapfile -t COMPREPLY < <(compgen -W "$subcommands" -- "$current")
        return
    fi
    if [[ $current == -* ]]; then
        local options
        options=$("$program" "$subcommand" --help 2>/dev/null |
            sed -n 's/^  \(-h, \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p')
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$current")
        return
    fi
    # Option values and PATH arguments: file names.
    mapfile -t COMPREPLY < <(compgen -f -- "$current")
}

complete -F _divvy divvy
