# bash completion for slicectl                                -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/slicectl (loaded on
# demand by bash-completion). Completes commands, options and their values,
# and SLICE arguments with the paths `slicectl status --json` lists when
# sliced answers within 2 seconds (nothing otherwise: it fails silently).
# Keep in step with `slicectl --help` and `slicectl COMMAND --help`.

# shellcheck shell=bash disable=SC2207 # COMPREPLY=($(compgen ...)) is the idiom
_slicectl_commands="run status get logs events restart stop start diff apply key pkg repo"

# The slice paths sliced reports, one a line. $1: --socket PATH args, if any.
_slicectl_slices()
{
    local json
    json=$(timeout 2 "${_slicectl_bin:-slicectl}" "$@" status --json 2>/dev/null) || return 0
    # {"slices": [{"path": "/app/web", ...}, ...]}: no jq needed for this
    printf '%s\n' "$json" | grep -o '"path"[[:space:]]*:[[:space:]]*"[^"]*"' |
        sed 's/.*"\([^"]*\)"$/\1/'
}

_slicectl()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local _slicectl_bin=${words[0]}

    # Find the command, skipping global options (and --socket's argument).
    local i cmd='' cmd_at=0 socket_args=()
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --socket) socket_args=(--socket "${words[i + 1]}"); ((i++)) ;;
            --socket=*) socket_args=("${words[i]}") ;;
            -*) ;;
            *) cmd=${words[i]}; cmd_at=$i; break ;;
        esac
    done
    # --socket may also follow the command
    for ((i = cmd_at + 1; cmd_at > 0 && i < cword; i++)); do
        case ${words[i]} in
            --socket) socket_args=(--socket "${words[i + 1]}") ;;
            --socket=*) socket_args=("${words[i]}") ;;
        esac
    done

    local global_opts="--socket --json --help --version"
    if [[ -z $cmd ]]; then
        case $prev in
            --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_slicectl_commands" -- "$cur"))
        fi
        return
    fi

    case $cmd in
        run)
            # After `--`: the command and its arguments.
            for ((i = cmd_at + 1; i < cword; i++)); do
                if [[ ${words[i]} == -- ]]; then
                    if declare -F _command_offset >/dev/null; then
                        _command_offset $((i + 1))
                    elif ((cword == i + 1)); then
                        COMPREPLY=($(compgen -c -- "$cur"))
                    else
                        COMPREPLY=($(compgen -f -- "$cur"))
                    fi
                    return
                fi
            done
            case $prev in
                --profile)
                    COMPREPLY=($(compgen -W "posix strict" -- "$cur") $(compgen -f -- "$cur"))
                    return ;;
                --ro | --rw | --cwd)
                    COMPREPLY=($(compgen -f -- "$cur"))
                    return ;;
                --cgroup-root)
                    COMPREPLY=($(compgen -d -- "$cur"))
                    return ;;
                --net)
                    COMPREPLY=($(compgen -W "none host" -- "$cur"))
                    return ;;
                --listen)
                    COMPREPLY=($(compgen -W "tcp: unix:" -- "$cur"))
                    [[ ${#COMPREPLY[@]} -gt 0 ]] && compopt -o nospace 2>/dev/null
                    return ;;
                --cpus)
                    COMPREPLY=($(compgen -W "0-$(($(nproc 2>/dev/null || echo 1) - 1))" -- "$cur"))
                    return ;;
                --memory | --tmp-size | --pids | --files | --cpu-weight | --cpu-max | \
                    --env | --hostname | --uid | --gid)
                    return ;;
            esac
            COMPREPLY=($(compgen -W "--profile --ro --rw --memory --pids --files --cpus
                --cpu-weight --cpu-max --net --listen --env --hostname --cwd --tmp-size
                --tty --uid --gid --cgroup-root --verbose --help --" -- "$cur"))
            return ;;
        diff | apply)
            case $prev in
                -f | --file)
                    COMPREPLY=($(compgen -f -X '!*.@(yaml|yml|json)' -- "$cur") \
                               $(compgen -d -- "$cur"))
                    [[ $cur == - || -z $cur ]] && COMPREPLY+=(-)
                    return ;;
                --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
            esac
            COMPREPLY=($(compgen -W "--file $global_opts" -- "$cur"))
            return ;;
        key)
            [[ $cword -eq $((cmd_at + 1)) ]] && COMPREPLY=($(compgen -W "gen" -- "$cur"))
            return ;;
        pkg)
            if [[ $cword -eq $((cmd_at + 1)) ]]; then
                COMPREPLY=($(compgen -W "build sign install remove list rollback gc verify
                    audit" -- "$cur"))
                return
            fi
            case $prev in
                --store | -o | --output) COMPREPLY=($(compgen -d -- "$cur")); return ;;
                --key | --root | --osv | --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                --repo | --keep) return ;;
            esac
            case ${words[cmd_at + 1]} in
                build) COMPREPLY=($(compgen -W "--output" -- "$cur") $(compgen -d -- "$cur")) ;;
                sign) COMPREPLY=($(compgen -W "--key" -- "$cur") $(compgen -f -X '!*.pkg' -- "$cur")) ;;
                install) COMPREPLY=($(compgen -W "--repo --root --no-progress --store $global_opts" -- "$cur")) ;;
                list) COMPREPLY=($(compgen -W "--generations --store $global_opts" -- "$cur")) ;;
                gc) COMPREPLY=($(compgen -W "--keep --store $global_opts" -- "$cur")) ;;
                audit) COMPREPLY=($(compgen -W "--osv --store $global_opts" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "--store $global_opts" -- "$cur")) ;;
            esac
            return ;;
        repo)
            if [[ $cword -eq $((cmd_at + 1)) ]]; then
                COMPREPLY=($(compgen -W "init add rotate signers" -- "$cur"))
                return
            fi
            case $prev in
                --sign | --signer) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                --threshold | --expires | --key) return ;;
            esac
            COMPREPLY=($(compgen -W "--key --threshold --expires --sign --signer" -- "$cur") \
                       $(compgen -f -- "$cur"))
            return ;;
        status | events)
            [[ $prev == --socket ]] && { COMPREPLY=($(compgen -f -- "$cur")); return; }
            COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
            return ;;
        logs | get | restart | stop | start)
            case $prev in
                --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                -n | --tail) return ;;
            esac
            local opts=$global_opts
            [[ $cmd == logs ]] && opts+=" --follow --tail --timestamps"
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            else
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_slicectl_slices "${socket_args[@]}")" -- "$cur"))
            fi
            return ;;
    esac
} &&
    complete -F _slicectl slicectl

# ex: filetype=sh
