# Sourced by setup.sh and deb.sh: install_missing WHO PACKAGE... installs
# from Debian's archive the packages that are not installed yet, saying so.
install_missing() {
    local who=$1 p
    local missing=()
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "$who: installing ${missing[*]} (a few minutes on a fresh machine)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}
