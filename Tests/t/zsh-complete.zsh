#!/usr/bin/env zsh
# zsh-complete.zsh FPATH-DIR WORDS... (run with zsh -f): prints the candidates zsh's completion system offers when
# WORDS are typed and then a tab, one per line, as an interactive zsh does: a zsh in a pseudo-terminal (zsh/zpty)
# with compinit loaded from FPATH-DIR, whose compadd prints what it is given between two markers, in the manner of
# Valodim's zsh-capture-completion.
zmodload zsh/zpty || { echo "error: no zsh/zpty" >&2; exit 1 }
fpath_dir=$1; shift
zpty z zsh -f -i
local line
init=$(mktemp)
cat >$init <<INIT
PROMPT=
fpath=($fpath_dir \$fpath)
autoload -Uz compinit && compinit -u -d $init.dump
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
null-line() { echo -E - \$'\0' }
compprefuncs=(null-line)
comppostfuncs=(null-line exit)
compadd() {
    if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return \$?; fi
    typeset -a __hits
    builtin compadd -A __hits "\$@"
    local h
    for h in \$__hits; do echo -E - "<cand>\$h"; done
}
echo ok
INIT
zpty -w z "source $init"
repeat 8; do zpty -r z line; [[ $line == ok* ]] && break; done
zpty -w z "$*"$'\t'
integer tog=0
while zpty -r z line; do
    [[ $line == *$'\0'* ]] && { (( tog++ )) && break || continue }
    (( tog )) && [[ $line == '<cand>'* ]] && print -r -- ${${line#<cand>}//[$'\r\n']/}
done
zpty -d z
rm -f $init $init.dump
