#!/bin/sh
# Builds the Debian package and installs it on this machine the way the
# README tells a user to (`apt install ./build-deb/ipsecctl_*.deb`, with
# apt's default of installing recommends, which pulls strongSwan in),
# meant for a fresh Debian 12 root:
#   ../shared/tools/fresh-debian -- sh dist/check-install.sh
# Then it checks what a user would: the binary and its version, the manual
# pages beside strongSwan's, the unit (enabled, and valid), bash
# completion, the defaults file, the private configuration directory and a
# first check of an example; and that ipsecctl and strongswan-starter (which
# owns Debian's ipsec.conf(5)) install in either order and remove and purge
# cleanly.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=900 "$@"; }
# apt, as the README says; it warns that its command line is not stable.
apt_user() {
  rc=0
  $SUDO env DEBIAN_FRONTEND=noninteractive apt -y -o DPkg::Lock::Timeout=900 "$@" \
    >/tmp/check-install.apt 2>&1 || rc=$?
  grep -v 'does not have a stable CLI' /tmp/check-install.apt || true
  return $rc
}
apt_get update
apt_get install --no-install-recommends \
  build-essential g++ cmake make bison libssl-dev debhelper dpkg-dev lintian groff-base systemd man-db >/dev/null
sh dist/build-deb.sh build-deb
deb=$(ls "$PWD"/build-deb/ipsecctl_*.deb | tail -n 1)

status=0
step() { name=$1; shift; if "$@" >/tmp/check-install.out 2>&1; then echo "ok   $name"; else
  echo "FAIL $name"; sed 's/^/     /' /tmp/check-install.out; status=1; fi; }
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# 1. As the README says, recommends on: ipsecctl first, strongSwan with it.
step "apt install ./ipsecctl_*.deb (recommends on)" apt_user install "$deb"
step "ipsecctl is installed" installed ipsecctl
step "its recommends came along (strongswan-charon)" installed strongswan-charon
step "ipsecctl --version" sh -c 'ipsecctl --version | grep -q "^ipsecctl [0-9]"'
step "ipsecctl is in /usr/sbin" test -x /usr/sbin/ipsecctl
step "man 8 ipsecctl renders" sh -c 'MANPAGER=cat man 8 ipsecctl | grep -q "ipsecctl.service"'
step "man 5 ipsecctl.conf renders" sh -c 'MANPAGER=cat man 5 ipsecctl.conf | grep -q "dynamic"'
step "man 5ipsecctl ipsec.conf shows ipsecctl's page" sh -c \
  'MANPAGER=cat man 5ipsecctl ipsec.conf | grep -q "OpenBSD"'
step "ipsecctl(8) points to the file format's page" sh -c \
  'MANPAGER=cat man 8 ipsecctl | grep -q "ipsecctl.conf(5)"'
if installed strongswan-starter; then
  step "man 5 ipsec.conf is strongSwan's, untouched" sh -c \
    'dpkg -S /usr/share/man/man5/ipsec.conf.5.gz | grep -q strongswan-starter'
fi
step "the unit is installed and enabled" sh -c \
  'systemctl --root=/ is-enabled ipsecctl.service | grep -qx enabled'
step "the unit verifies" systemd-analyze verify --man=no /lib/systemd/system/ipsecctl.service
step "the unit reads /etc/ipsecctl/ipsec.conf" grep -q 'ExecStart=/usr/sbin/ipsecctl .*-f /etc/ipsecctl/ipsec.conf' \
  /lib/systemd/system/ipsecctl.service
step "/etc/ipsecctl is private" sh -c '[ "$(stat -c %a /etc/ipsecctl)" = 700 ]'
step "/etc/default/ipsecctl is a conffile" sh -c 'dpkg-query -W -f="\${Conffiles}" ipsecctl | grep -q /etc/default/ipsecctl'
step "bash completion is installed" test -f /usr/share/bash-completion/completions/ipsecctl
step "an installed example checks" sh -c \
  'rm -rf /tmp/hub && cp -r /usr/share/doc/ipsecctl/examples/hub /tmp/hub && chmod 600 /tmp/hub/*.conf && cd /tmp/hub && ipsecctl -nf ipsec.conf'
step "strongSwan's format is named as such" sh -c \
  'printf "config setup\nconn home\n  left=%%defaultroute\n" > /tmp/swan.conf && chmod 600 /tmp/swan.conf &&
   ! ipsecctl -nf /tmp/swan.conf 2>/tmp/swan.err && grep -q strongSwan /tmp/swan.err'

# 2. Removed, then purged: nothing of ipsecctl is left, strongSwan stays.
step "apt remove ipsecctl" apt_user remove ipsecctl
step "the binary is gone, the conffile stays" sh -c \
  '! test -e /usr/sbin/ipsecctl && test -f /etc/default/ipsecctl'
if installed strongswan-starter; then
  step "strongSwan's manual page stayed" test -f /usr/share/man/man5/ipsec.conf.5.gz
fi
step "apt purge ipsecctl" apt_user purge ipsecctl
step "nothing of ipsecctl is left" sh -c \
  '! dpkg -l ipsecctl 2>/dev/null | grep -q "^[ir]" && ! test -e /etc/default/ipsecctl &&
   ! test -e /etc/ipsecctl && ! test -e /usr/share/man/man5/ipsecctl.conf.5.gz &&
   ! test -e /lib/systemd/system/ipsecctl.service'

# 3. The other order: strongSwan's starter first, then ipsecctl.
step "purge strongSwan to start over" apt_user purge strongswan-starter strongswan-charon
step "apt install strongswan-starter" apt_user install strongswan-starter
step "then apt install ./ipsecctl_*.deb" apt_user install "$deb"
step "both are installed" sh -c 'dpkg-query -W -f="\${db:Status-Status}\n" ipsecctl strongswan-starter |
  grep -c "^installed$" | grep -qx 2'
step "each manual page is its package's" sh -c \
  'dpkg -S /usr/share/man/man5/ipsec.conf.5.gz | grep -q strongswan-starter &&
   dpkg -S /usr/share/man/man5/ipsecctl.conf.5.gz | grep -q ipsecctl'
step "man 5 ipsec.conf is strongSwan's, man 5ipsecctl ipsec.conf is ipsecctl's" sh -c \
  'MANPAGER=cat man 5 ipsec.conf | grep -q "conn" && MANPAGER=cat man 5ipsecctl ipsec.conf | grep -q "OpenBSD"'
step "apt remove strongswan-starter" apt_user remove strongswan-starter
step "ipsecctl still works, with its pages" sh -c \
  'ipsecctl --version >/dev/null && MANPAGER=cat man 5 ipsecctl.conf | grep -q dynamic &&
   MANPAGER=cat man 5 ipsec.conf | grep -q OpenBSD'
step "apt purge ipsecctl again" apt_user purge ipsecctl
step "nothing of ipsecctl is left" sh -c '! test -e /usr/sbin/ipsecctl && ! test -e /etc/ipsecctl'
exit $status
