/**
 * Shell completion scripts. Each is a thin wrapper: it hands the words typed so far to
 * `<the command typed> __complete -- WORDS…` (complete.ts decides) and falls back to file names
 * when that offers nothing (for --from FILE and the like) or fails.
 */

const BASH = `# polyvisor completion for bash: source <(polyvisor completion bash)
_polyvisor() {
  local IFS=$'\\n'
  COMPREPLY=($("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _polyvisor polyvisor
`;

const ZSH = `#compdef polyvisor
# polyvisor completion for zsh: source <(polyvisor completion zsh)  (after compinit)
_polyvisor() {
  local -a reply
  reply=(\${(f)"$("\${words[1]}" __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)"})
  if (( \${#reply} )); then compadd -Q -- "\${reply[@]}"; else _files; fi
}
if (( $+functions[compdef] )); then compdef _polyvisor polyvisor; fi
`;

const FISH = `# polyvisor completion for fish: polyvisor completion fish | source
function __polyvisor_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete -- $tokens[2..-1] $cur 2>/dev/null)
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else
        __fish_complete_path $cur
    end
end
complete -c polyvisor -f -a '(__polyvisor_complete)'
`;

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
