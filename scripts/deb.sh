#!/usr/bin/env bash
# Builds the Debian package (debian/) from a copy of the tracked files, so
# that the checkout's build directories stay out of it:
# dpkg-buildpackage -b -us -uc. The .deb goes to build/deb/.
# --check: then runs lintian (errors and warnings fail), installs it,
# checks what it installed (vqswitch --version,
# vqctl --help, the unit with systemd-analyze verify, the man pages, the
# conffiles), purges it and checks that nothing is left. Root only; it
# installs the packaging tools it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PACKAGES=(build-essential debhelper dpkg-dev git meson ninja-build pkg-config
          libdpdk-dev libbsd-dev libmnl-dev scdoc systemd man-db lintian)
. scripts/install-missing.sh
install_missing deb.sh "${PACKAGES[@]}"

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
work=$(mktemp -d /tmp/vqs-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/vqswitch-$version"
mkdir -p "$src"
echo "deb.sh: building vqswitch $version in $src"
git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && tar --null -T - -cf -) | tar -C "$src" -xf -
(cd "$src" && dpkg-buildpackage -b -us -uc) > "$work/build.log" 2>&1 || {
    tail -40 "$work/build.log"
    echo "deb.sh: dpkg-buildpackage failed" >&2
    exit 1
}
mkdir -p build/deb
deb=$(ls "$work"/vqswitch_"$version"_*.deb)
cp "$deb" build/deb/
deb=build/deb/$(basename "$deb")
echo "deb.sh: $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'

[ "${1:-}" = --check ] || exit 0

echo "deb.sh: lintian"
if ! out=$(lintian --fail-on error,warning "$deb" 2>&1); then
    echo "$out" >&2
    echo "deb.sh: lintian found errors or warnings" >&2
    exit 1
fi

fail() { echo "deb.sh: $*" >&2; dpkg --purge vqswitch >/dev/null 2>&1 || true; exit 1; }
echo "deb.sh: installing, checking, purging"
dpkg -i "$deb" >/dev/null || fail "dpkg -i failed"
[ "$(/usr/sbin/vqswitch --version)" = "vqswitch $version" ] || fail "vqswitch --version: $(/usr/sbin/vqswitch --version)"
/usr/bin/vqctl --help | grep -q "fdb/show" || fail "vqctl --help"
out=$(systemd-analyze verify /lib/systemd/system/vqswitch.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
for page in vqswitch vqctl; do
    man -w "$page" >/dev/null 2>&1 || fail "no man page $page(8)"
done
for f in /etc/vqswitch/vqswitch.conf /etc/default/vqswitch; do
    dpkg-query -W -f='${Conffiles}\n' vqswitch | grep -q " $f " || fail "$f is not a conffile"
done
[ -f /usr/share/bash-completion/completions/vqctl ] || fail "no bash completion"
systemctl is-enabled vqswitch >/dev/null 2>&1 && fail "the service was enabled on install"
echo "deb.sh: the service under a private systemd (scripts/systemd-check.sh)"
bash scripts/systemd-check.sh || fail "the service does not work under systemd"
dpkg --purge vqswitch >/dev/null || fail "dpkg --purge failed"
for f in /usr/sbin/vqswitch /usr/bin/vqctl /lib/systemd/system/vqswitch.service /etc/vqswitch \
         /etc/default/vqswitch /usr/share/man/man8/vqswitch.8.gz; do
    [ ! -e "$f" ] || fail "$f left after purge"
done
echo "deb.sh: the package installs, works and purges cleanly"
