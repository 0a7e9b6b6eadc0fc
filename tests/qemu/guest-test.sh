#!/bin/sh
# PID 1 of the qemu guest (a stock Debian kernel with ESP, AH and IPcomp).
# Two gateways and two LAN hosts in namespaces; IPsec is configured by
# ipsecctl alone, from ipsec.conf files (ip is used for links, addresses
# and routes, and only reads XFRM state to double-check). Debian's busybox
# runs its own applets before PATH, so iproute2 is called as /opt/ip.
# Ends with "GUEST-EXIT rc=N" on the console and powers off.
export PATH=/opt:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs run /run
mkdir -p /run/netns /tmp/cfg
for m in xfrm_user af_key esp4 esp6 ah4 ah6 xfrm_ipcomp ipcomp ipcomp6 xfrm4_tunnel \
         xfrm6_tunnel tunnel4 tunnel6 veth authenc echainiv seqiv gcm ghash-generic \
         aes_generic sha256_generic sha512_generic hmac cbc deflate; do
  modprobe "$m" 2>/dev/null
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
in_ns() { ns=$1; shift; /opt/ip netns exec "$ns" "$@"; }

# ---- network: ha -- gwa ==WAN== gwb -- hb ------------------------------
for ns in gwa gwb ha hb; do /opt/ip netns add $ns; /opt/ip -n $ns link set lo up; done
/opt/ip -n gwa link add wa type veth peer name wb netns gwb
/opt/ip -n gwa link add la type veth peer name lh netns ha
/opt/ip -n gwb link add lb type veth peer name lh netns hb
/opt/ip -n gwa addr add 192.0.2.1/24 dev wa
/opt/ip -n gwb addr add 192.0.2.2/24 dev wb
/opt/ip -n gwa addr add 2001:db8::1/64 dev wa nodad
/opt/ip -n gwb addr add 2001:db8::2/64 dev wb nodad
/opt/ip -n gwa addr add 10.1.0.1/24 dev la
/opt/ip -n gwb addr add 10.2.0.1/24 dev lb
/opt/ip -n ha addr add 10.1.0.2/24 dev lh
/opt/ip -n hb addr add 10.2.0.2/24 dev lh
for l in gwa:wa gwa:la gwb:wb gwb:lb ha:lh hb:lh; do /opt/ip -n ${l%%:*} link set ${l#*:} up; done
/opt/ip -n ha route add default via 10.1.0.1
/opt/ip -n hb route add default via 10.2.0.1
/opt/ip -n gwa route add 10.2.0.0/24 via 192.0.2.2
/opt/ip -n gwb route add 10.1.0.0/24 via 192.0.2.1
in_ns gwa sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
in_ns gwb sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
# Neighbour discovery would itself need IPsec under a host-to-host IPv6
# flow; fixed neighbours keep the test about ESP.
mac_a=$(in_ns gwa cat /sys/class/net/wa/address)
mac_b=$(in_ns gwb cat /sys/class/net/wb/address)
/opt/ip -n gwa -6 neigh replace 2001:db8::2 lladdr "$mac_b" dev wa nud permanent
/opt/ip -n gwb -6 neigh replace 2001:db8::1 lladdr "$mac_a" dev wb nud permanent
/opt/ip -n gwa neigh replace 192.0.2.2 lladdr "$mac_b" dev wa nud permanent
/opt/ip -n gwb neigh replace 192.0.2.1 lladdr "$mac_a" dev wb nud permanent

K1=0x$(printf '11%.0s' $(seq 32)); K2=0x$(printf '22%.0s' $(seq 32))
E1=0x$(printf '33%.0s' $(seq 32)); E2=0x$(printf '44%.0s' $(seq 32))
G1=0x$(printf '55%.0s' $(seq 36)); G2=0x$(printf '66%.0s' $(seq 36))
BAD=0x$(printf '99%.0s' $(seq 32))

# conf NAME TEXT: a private configuration file (ipsecctl refuses others)
conf() { printf '%s\n' "$2" > /tmp/cfg/$1; chmod 600 /tmp/cfg/$1; }

# gateway_pair SATYPE MODE-WORDS A-SIDE-KEYS B-SIDE-KEYS: LAN-to-LAN configs
gateway_pair() {
  conf a.conf "flow $1 from 10.1.0.0/24 to 10.2.0.0/24 local 192.0.2.1 peer 192.0.2.2
$1 tunnel from 192.0.2.1 to 192.0.2.2 spi 0x1001:0x1002 $2 $3"
  conf b.conf "flow $1 from 10.2.0.0/24 to 10.1.0.0/24 local 192.0.2.2 peer 192.0.2.1
$1 tunnel from 192.0.2.2 to 192.0.2.1 spi 0x1002:0x1001 $2 $4"
}

load_both() {  # [extra ipsecctl options]
  in_ns gwa ipsecctl "$@" -f /tmp/cfg/a.conf && in_ns gwb ipsecctl "$@" -f /tmp/cfg/b.conf
}

unload_both() {  # [extra ipsecctl options]
  in_ns gwa ipsecctl "$@" -d -f /tmp/cfg/a.conf && in_ns gwb ipsecctl "$@" -d -f /tmp/cfg/b.conf
}

kernel_empty() {
  [ -z "$(in_ns gwa /opt/ip xfrm state)$(in_ns gwa /opt/ip xfrm policy)" ] &&
    [ -z "$(in_ns gwb /opt/ip xfrm state)$(in_ns gwb /opt/ip xfrm policy)" ]
}

# ping_sniffed NS-FROM DEST [ping options]: pings while counting what
# gwa's WAN interface sends; leaves the counts in $sniffed
ping_sniffed() {
  from=$1 dest=$2
  shift 2
  in_ns gwa esp_sniff wa 4 > /tmp/sniff.out &
  sniffer=$!
  sleep 0.5
  in_ns "$from" ping -c 3 -W 3 "$@" "$dest" > /tmp/ping.out 2>&1
  ping_rc=$?
  wait $sniffer
  sniffed=$(cat /tmp/sniff.out)
  echo "     ping $dest: rc $ping_rc; on the wire: $sniffed"
  return $ping_rc
}

count() { echo "$sniffed" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

show_all() {
  for gw in gwa gwb; do
    echo "     --- ipsecctl -s all ($gw)"
    in_ns $gw ipsecctl -s all | sed 's/^/     /'
  done
}

# ---- 1. ESP tunnel, aes-256-cbc + hmac-sha2-256, LAN to LAN -------------
gateway_pair esp "auth hmac-sha2-256 enc aes-256" \
  "authkey $K1:$K2 enckey $E1:$E2" "authkey $K2:$K1 enckey $E2:$E1"
check "cbc: both gateways load their ipsec.conf" load_both
check "cbc: LAN to LAN ping passes through the tunnel" ping_sniffed ha 10.2.0.2
check "cbc: ESP on the wire" [ "$(count esp)" -ge 3 ]
check "cbc: no plaintext echo on the wire" [ "$(count echo)" -eq 0 ]
show_all
check "cbc: -s sa shows the SA as written" sh -c \
  "/opt/ip netns exec gwa ipsecctl -s sa | grep -qx 'esp tunnel from 192.0.2.1 to 192.0.2.2 spi 0x00001001 auth hmac-sha2-256 enc aes-256'"
check "cbc: -s flow shows the flows" sh -c \
  "/opt/ip netns exec gwa ipsecctl -s flow | grep -qx 'flow esp out from 10.1.0.0/24 to 10.2.0.0/24 local 192.0.2.1 peer 192.0.2.2 type require'"
check "cbc: -s all --format prometheus counts the outbound SA's bytes and packets" sh -c \
  "/opt/ip netns exec gwa ipsecctl -s all --format prometheus | awk '
     /^ipsecctl_sa_(bytes|packets)_total[{].*spi=\"0x00001001\"/ { if (\$2 > 0) n++ }
     END { exit n != 2 }'"
/opt/ip netns exec gwa ipsecctl -m > /tmp/reload-events.out 2>&1 &
monitor=$!
sleep 0.5
check "cbc: reloading the same file succeeds" in_ns gwa ipsecctl -f /tmp/cfg/a.conf
sleep 0.5
kill $monitor
wait $monitor 2>/dev/null
check "cbc: ... and sends nothing (ipsecctl -m silent)" [ ! -s /tmp/reload-events.out ]
check "cbc: -d removes everything both files added" unload_both
check "cbc: nothing is left in either kernel" kernel_empty

# ---- 2. a wrong key breaks it -------------------------------------------
gateway_pair esp "auth hmac-sha2-256 enc aes-256" \
  "authkey $K1:$K2 enckey $E1:$E2" "authkey $K2:$BAD enckey $E2:$E1"
load_both
if ping_sniffed ha 10.2.0.2; then fail "wrong key: ping must fail"; else ok "wrong key: ping fails"; fi
check "wrong key: gwb counts integrity failures" sh -c \
  "/opt/ip netns exec gwb ipsecctl -s sa -v | grep -q 'dropped (integrity)'"
unload_both

# ---- 3. ESP tunnel with AES-GCM ----------------------------------------
gateway_pair esp "enc aes-256-gcm" "enckey $G1:$G2" "enckey $G2:$G1"
check "gcm: refused without --allow-static-aead" sh -c \
  '! /opt/ip netns exec gwa ipsecctl -f /tmp/cfg/a.conf 2>/dev/null'
check "gcm: loads with --allow-static-aead" load_both --allow-static-aead
check "gcm: LAN to LAN ping" ping_sniffed ha 10.2.0.2
check "gcm: ESP on the wire, no plaintext" [ "$(count esp)" -ge 3 -a "$(count echo)" -eq 0 ]
check "gcm: -s sa names the cipher" sh -c \
  "/opt/ip netns exec gwa ipsecctl -s sa | grep -q 'spi 0x00001001 enc aes-256-gcm'"
check "gcm: -d removes it" unload_both --allow-static-aead
check "gcm: nothing left" kernel_empty

# ---- 4. ESP transport mode over IPv6 ------------------------------------
conf a.conf "flow esp from 2001:db8::1 to 2001:db8::2
esp transport from 2001:db8::1 to 2001:db8::2 spi 0x2001:0x2002 auth hmac-sha2-256 enc aes authkey $K1:$K2 enckey 0x$(printf '77%.0s' $(seq 16)):0x$(printf '88%.0s' $(seq 16))"
conf b.conf "flow esp from 2001:db8::2 to 2001:db8::1
esp transport from 2001:db8::2 to 2001:db8::1 spi 0x2002:0x2001 auth hmac-sha2-256 enc aes authkey $K2:$K1 enckey 0x$(printf '88%.0s' $(seq 16)):0x$(printf '77%.0s' $(seq 16))"
check "v6 transport: load" load_both
check "v6 transport: gateway to gateway ping" ping_sniffed gwa 2001:db8::2
check "v6 transport: ESP on the wire, no plaintext" [ "$(count esp)" -ge 3 -a "$(count echo)" -eq 0 ]
check "v6 transport: kernel SA is transport mode" sh -c \
  "/opt/ip netns exec gwa /opt/ip xfrm state | grep -q 'mode transport'"
show_all
unload_both
check "v6 transport: nothing left" kernel_empty

# ---- 5. AH tunnel ---------------------------------------------------------
gateway_pair ah "auth hmac-sha2-256" "authkey $K1:$K2" "authkey $K2:$K1"
check "ah: load" load_both
check "ah: LAN to LAN ping" ping_sniffed ha 10.2.0.2
check "ah: AH on the wire" [ "$(count ah)" -ge 3 ]
unload_both

# ---- 6. IPcomp tunnel -----------------------------------------------------
gateway_pair ipcomp "comp deflate" "" ""
check "ipcomp: load" load_both
check "ipcomp: LAN to LAN ping with large packets" ping_sniffed ha 10.2.0.2 -s 1200
check "ipcomp: IPcomp on the wire" [ "$(count ipcomp)" -ge 3 ]
show_all
unload_both
check "ipcomp: nothing left (the kernel's implicit IPIP SA too)" kernel_empty

# ---- 7. -m reports the kernel's acquire for a flow without SA -------------
conf a.conf "flow esp from 10.1.0.0/24 to 10.2.0.0/24 local 192.0.2.1 peer 192.0.2.2"
in_ns gwa ipsecctl -f /tmp/cfg/a.conf
/opt/ip netns exec gwa ipsecctl -m > /tmp/acquire.out 2>&1 &
monitor=$!
sleep 0.5
in_ns ha ping -c 1 -W 1 10.2.0.2 > /dev/null 2>&1
sleep 0.5
kill $monitor
wait $monitor 2>/dev/null
sed 's/^/     /' /tmp/acquire.out
check "-m: the acquire for traffic without SA is shown" grep -q '^sadb_acquire:' /tmp/acquire.out
check "-F empties SPD and SAD" sh -c '/opt/ip netns exec gwa ipsecctl -F && [ -z "$(/opt/ip netns exec gwa /opt/ip xfrm policy)" ]'

# ---- 8. PF_KEY: the same kind of tunnel through --kernel pfkey ------------
# A monitor for the whole section: its SADB_REGISTERs make the kernel probe
# every algorithm (modprobe under TCG takes seconds), so it starts early.
/opt/ip netns exec gwa ipsecctl --kernel pfkey -m > /tmp/acquire-pfkey.out 2>&1 &
acquire_monitor=$!
S1=0x$(printf 'a1%.0s' $(seq 20)); S2=0x$(printf 'b2%.0s' $(seq 20))
gateway_pair esp "auth hmac-sha2-256 enc aes-256" \
  "authkey $K1:$K2 enckey $E1:$E2" "authkey $K2:$K1 enckey $E2:$E1"
check "pfkey: hmac-sha2-256 (af_key would truncate it to 96 bits) is refused" sh -c \
  '! /opt/ip netns exec gwa ipsecctl --kernel pfkey -f /tmp/cfg/a.conf 2>/tmp/pfkey.err'
grep -q 'truncates hmac-sha2-256 to 96 bits' /tmp/pfkey.err && ok "pfkey: ... with a clear message" ||
  fail "pfkey: ... with a clear message: $(cat /tmp/pfkey.err)"
check "pfkey: ... and nothing was sent" kernel_empty
gateway_pair esp "auth hmac-sha1 enc aes-256" \
  "authkey $S1:$S2 enckey $E1:$E2" "authkey $S2:$S1 enckey $E2:$E1"
check "pfkey: both gateways load through PF_KEY" load_both --kernel pfkey
check "pfkey: LAN to LAN ping" ping_sniffed ha 10.2.0.2
check "pfkey: ESP on the wire, no plaintext" [ "$(count esp)" -ge 3 -a "$(count echo)" -eq 0 ]
for gw in gwa gwb; do
  in_ns $gw ipsecctl --kernel pfkey -s all > /tmp/show.pfkey
  in_ns $gw ipsecctl -s all > /tmp/show.xfrm
  echo "     --- ipsecctl --kernel pfkey -s all ($gw)"
  sed 's/^/     /' /tmp/show.pfkey
  check "pfkey: -s all through PF_KEY and through XFRM agree ($gw)" cmp -s /tmp/show.pfkey /tmp/show.xfrm
done
/opt/ip netns exec gwa ipsecctl --kernel pfkey -m > /tmp/reload-events-pfkey.out 2>&1 &
monitor=$!
sleep 0.5
check "pfkey: reloading the same file succeeds" in_ns gwa ipsecctl --kernel pfkey -f /tmp/cfg/a.conf
sleep 0.5
kill $monitor
wait $monitor 2>/dev/null
# The monitor is promiscuous: it also sees the reload's dumps, which are
# reads, not changes.
check "pfkey: ... and changes nothing (ipsecctl --kernel pfkey -m: dumps only)" \
  [ -z "$(grep -v -E '^sadb_(x_spd)?dump:' /tmp/reload-events-pfkey.out)" ]
check "pfkey: -d removes everything" unload_both --kernel pfkey
check "pfkey: nothing left" kernel_empty
conf a.conf "flow esp from 10.1.0.0/24 to 10.2.0.0/24 local 192.0.2.1 peer 192.0.2.2"
in_ns gwa ipsecctl --kernel pfkey -f /tmp/cfg/a.conf
in_ns ha ping -c 1 -W 1 10.2.0.2 > /dev/null 2>&1
sleep 1
kill $acquire_monitor
wait $acquire_monitor 2>/dev/null
grep -A1 '^sadb_acquire:' /tmp/acquire-pfkey.out | sed 's/^/     /'

check "pfkey: -m prints the kernel's SADB_ACQUIRE" grep -q '^sadb_acquire:' /tmp/acquire-pfkey.out
check "pfkey: -F leaves nothing" sh -c \
  '/opt/ip netns exec gwa ipsecctl --kernel pfkey -F && [ -z "$(/opt/ip netns exec gwa /opt/ip xfrm policy)" ]'

# ---- 9. figures (not checks): 10k tunnel flows through XFRM and PF_KEY --
# A kernel with real PF_KEY only exists here; the times are TCG's, so only
# their ratio means something (bench/ measures the host kernel).
awk 'BEGIN { for (i = 0; i < 10000; i++)
  printf "flow esp from 10.%d.%d.%d to 172.16.%d.%d peer 198.18.0.1\n",
         int(i / 65536), int(i / 256) % 256, i % 256, int(i / 256) % 256, i % 256 }' \
  > /tmp/cfg/bench.conf
chmod 600 /tmp/cfg/bench.conf
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
peak_kb() { sed -n 's/.*Maximum resident set size (kbytes): *//p' "$1"; }
if [ -x /opt/xfrm_floor ]; then
  # The very policies of the XFRM load, prebuilt and written raw: the
  # kernel's own time (its clock starts when the messages are ready).
  in_ns gwa ipsecctl -F
  echo "     bench: xfrm floor: $(in_ns gwa /opt/xfrm_floor /tmp/cfg/bench.conf)"
fi
for kernel in xfrm pfkey; do
  in_ns gwa ipsecctl -F
  t0=$(now_ms)
  in_ns gwa time -v -o /tmp/time.$kernel ipsecctl --kernel $kernel -f /tmp/cfg/bench.conf
  rc=$?
  t1=$(now_ms)
  loaded=$(/opt/ip netns exec gwa /opt/ip xfrm policy | grep -c '^src')
  in_ns gwa ipsecctl --kernel $kernel -f /tmp/cfg/bench.conf
  rc2=$?
  t2=$(now_ms)
  echo "     bench: $kernel: 10000 flows (30000 policies) loaded in $((t1 - t0)) ms (rc $rc, peak RSS $(peak_kb /tmp/time.$kernel) KiB), unchanged reload $((t2 - t1)) ms"
  # A file this large is sent while it is compiled (engine/session).
  check "bench: $kernel load of 10000 flows succeeds, sent while compiled" [ $rc -eq 0 ]
  check "bench: $kernel: all 30000 policies are in the kernel" [ "$loaded" -eq 30000 ]
  check "bench: $kernel: the unchanged reload succeeds" [ $rc2 -eq 0 ]
done
in_ns gwa ipsecctl -F

echo "$passed passed, $failed failed"
echo "GUEST-EXIT rc=$([ $failed -eq 0 ] && echo 0 || echo 1)"
poweroff -f
