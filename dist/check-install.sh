#!/bin/sh
# Builds the Debian package and installs it on this machine (meant for a
# fresh Debian 12 root: ../shared/tools/fresh-debian -- sh dist/check-install.sh),
# then checks what a user would: the binary and its version, the manual
# pages, the unit (enabled, and valid), bash completion, the defaults file,
# the private configuration directory, and a first check of an example.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  build-essential g++ cmake make bison debhelper dpkg-dev lintian groff-base systemd man-db >/dev/null
sh dist/build-deb.sh build-deb
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  ./build-deb/ipsecctl_*.deb >/dev/null
status=0
step() { name=$1; shift; if "$@" >/tmp/check-install.out 2>&1; then echo "ok   $name"; else
  echo "FAIL $name"; sed 's/^/     /' /tmp/check-install.out; status=1; fi; }
step "ipsecctl --version" sh -c 'ipsecctl --version | grep -q "^ipsecctl [0-9]"'
step "ipsecctl is in /usr/sbin" test -x /usr/sbin/ipsecctl
step "man 8 ipsecctl renders" sh -c 'MANPAGER=cat man 8 ipsecctl | grep -q "ipsecctl.service"'
step "man 5 ipsec.conf renders" sh -c 'MANPAGER=cat man 5 ipsec.conf | grep -q "dynamic"'
step "the unit is installed and enabled" sh -c \
  'systemctl --root=/ is-enabled ipsecctl.service | grep -qx enabled'
step "the unit verifies" systemd-analyze verify --man=no /lib/systemd/system/ipsecctl.service
step "the unit reads /etc/ipsecctl/ipsec.conf" grep -q 'ExecStart=/usr/sbin/ipsecctl .*-f /etc/ipsecctl/ipsec.conf' \
  /lib/systemd/system/ipsecctl.service
step "/etc/ipsecctl is private" sh -c '[ "$(stat -c %a /etc/ipsecctl)" = 700 ]'
step "/etc/default/ipsecctl is a conffile" sh -c 'dpkg-query -W -f="\${Conffiles}" ipsecctl | grep -q /etc/default/ipsecctl'
step "bash completion is installed" test -f /usr/share/bash-completion/completions/ipsecctl
step "an installed example checks" sh -c \
  'cp -r /usr/share/doc/ipsecctl/examples/hub /tmp/hub && chmod 600 /tmp/hub/*.conf && cd /tmp/hub && ipsecctl -nf ipsec.conf'
step "strongSwan's format is named as such" sh -c \
  'printf "config setup\nconn home\n  left=%%defaultroute\n" > /tmp/swan.conf && chmod 600 /tmp/swan.conf &&
   ! ipsecctl -nf /tmp/swan.conf 2>/tmp/swan.err && grep -q strongSwan /tmp/swan.err'
exit $status
