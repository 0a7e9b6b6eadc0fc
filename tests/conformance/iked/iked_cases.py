"""Random iked.conf(5) inputs drawn from its grammar, valid and broken.

Each case is a main file (and sometimes files it includes or a key file it
names) made of statements iked knows: macros, `set` options, `user`,
`include`, `ikev2` policies with every option of iked.conf(5) in their
places, and the ipsec.conf rules iked skips. A share of them is then
broken the ways people break files: a word dropped, doubled or moved, a
value out of range or misspelt, a quote left open.

Host words are numbers, `any`, `dynamic` or the loopback interface, and
the cases are answered in a network namespace of their own with only `lo`
up, by iked and by ipsecctl alike: a word that does end up looked up by
name fails at once there, the same way for both, and no query leaves.
"""

import random

TRANSFORM_WORDS = {
    "auth": ["hmac-md5", "hmac-sha1", "hmac-sha2-256", "hmac-sha2-384", "hmac-sha2-512",
             "hmac", "hmac-sha2", "sha1", ""],
    "prf": ["hmac-md5", "hmac-sha1", "hmac-sha2-256", "hmac-sha2-384", "hmac-sha2-512",
            "hmac-sha3"],
    "enc": ["3des", "3des-cbc", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm",
            "aes-128-gcm-12", "aes-256-gcm-12", "aes-128-ctr", "aes-192-ctr", "aes-256-ctr",
            "aes-192-gcm", "aes-128-gmac", "aes-256-gmac", "blowfish", "cast",
            "chacha20-poly1305", "null", "aes", "a", "des", "aes-512"],
    "group": ["none", "modp768", "modp1024", "modp1536", "modp2048", "modp3072", "modp4096",
              "modp6144", "modp8192", "ecp256", "ecp384", "ecp521", "ecp192", "ecp224",
              "brainpool224", "brainpool256", "brainpool384", "brainpool512", "curve25519",
              "sntrup761x25519", "grp1", "grp2", "grp5", "grp14", "grp15", "grp16", "grp19",
              "grp20", "grp21", "grp31", "grp", "modp", "ecp999"],
}
ESP_ONLY_ENC = {"aes-128-ctr", "aes-192-ctr", "aes-256-ctr", "aes-192-gcm", "aes-128-gmac",
                "aes-256-gmac", "blowfish", "cast", "chacha20-poly1305", "null"}

V4 = ["10.0.0.1", "10.0.0.0", "192.0.2.1", "192.0.2.254", "198.51.100.7", "203.0.113.9",
      "172.16.1.1", "10.1.2.3", "127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1", "1.2.3"]
V6 = ["2001:db8::1", "2001:db8::", "2001:db8:1::5", "fe80::1", "::1", "::", "fd00::7",
      "2001:db8::ffff:10.0.0.1"]
BAD_HOSTS = ["10.0.0.256", "2001:db8::g", "1.2.3.4.5"]
PORTS = ["22", "500", "4500", "0", "65535", "65536", "-1", "ssh", "www", "domain", "isakmp",
         "nonexistent-svc"]
PROTOS = ["tcp", "udp", "icmp", "gre", "esp", "ipv6-icmp", "6", "17", "0", "255", "256",
          "nonexistent-proto"]
IDS = ["gw.example.org", "vpn@example.org", "192.0.2.1", "2001:db8::1", '"/C=DE/O=x/CN=gw"',
       '"/CN=a b"', "host", "*"]
TIMES = ["3600", "0", "10m", "1h", "2H", "30M", "5x", "abc", "10", "-5", '"10 m"', "4294967296",
         "99999999999", "1s"]
BYTES = ["1000", "10K", "5M", "1G", "2g", "7x", "abc", "0", "-1", "4294967296", '"3 k"']
SETS = ["active", "passive", "couple", "decouple", "fragmentation", "nofragmentation",
        "mobike", "nomobike", "vendorid", "novendorid", "enforcesingleikesa",
        "noenforcesingleikesa", "stickyaddress", "nostickyaddress", "cert_partial_chain",
        'ocsp "http://ocsp.example.org/"', 'ocsp "http://o/" tolerate 10',
        'ocsp "http://o/" tolerate 5m maxage 1h', "dpd_check_interval 60",
        "dpd_check_interval -1", "dpd_check_interval 0", "ocsp", "nosuchoption", "natt"]
KEYWORDS = ["from", "to", "peer", "local", "esp", "ah", "inet", "inet6", "proto", "port",
            "ikesa", "childsa", "enc", "auth", "prf", "group", "srcid", "dstid", "psk", "eap",
            "config", "request", "tag", "tap", "iface", "lifetime", "ikelifetime", "bytes",
            "any", "dynamic", "active", "passive", "quick", "skip", "default", "ipcomp",
            "tunnel", "transport", "rdomain", "esn", "noesn", "name", "set", "user", "include"]


# Values iked refuses (or that make the policy impossible), by list; a
# clean case never draws them.
BAD = {"hmac", "hmac-sha2", "sha1", "", "hmac-sha3", "des", "aes-512", "grp", "modp", "ecp999",
       "10.0.0.256", "2001:db8::g", "1.2.3.4.5", "65536", "-1", "nonexistent-svc", "256",
       "nonexistent-proto", "5x", "abc", "-5", '"10 m"', "1s", "10", "7x", '"3 k"', "33", "129",
       "64", "nosuchoption", "natt", "ocsp", "dpd_check_interval -1", '"" "pw"', '"carol" ""',
       '"eve"', "dave secret", "none", "r", "sig", "dsa", '"md5"', "0xzz11", "0x", '""',
       "addr", "bogus", "nosuch0", "sec0", "enc", "enc4294967296", "foo1", "encx", "missing.hex",
       "missing.conf", "*", '"/CN=a b"'}


class Case:
    def __init__(self, clean):
        self.macros = []
        self.files = {}  # name -> (text, mode)
        self.clean = clean


_current = {"clean": False}


def pick(rng, items):
    if _current["clean"]:
        good = [i for i in items if i not in BAD]
        if good:
            return rng.choice(good)
    return rng.choice(items)


def host_word(rng, case, family=None, nat_ok=True):
    r = rng.random()
    if r < 0.08:
        return "any"
    if r < 0.12:
        return "dynamic"
    if r < 0.16:
        return "lo"
    if r < 0.19 and not case.clean:
        return pick(rng, BAD_HOSTS)
    if family is None:
        family = 4 if rng.random() < 0.7 else 6
    word = pick(rng, V4 if family == 4 else V6)
    if rng.random() < 0.35:
        mask = pick(rng, ["8", "16", "24", "32", "0", "33", "64", "128", "129", "-1"] if family == 6
                    else ["8", "16", "24", "32", "0", "31", "33", "129", "-1"])
        word += "/" + mask
    if case.macros and rng.random() < 0.08:
        name, _ = pick(rng, case.macros)
        return "$" + name
    if nat_ok and rng.random() < 0.05 and not case.clean:
        word += " (" + pick(rng, V4 if family == 4 else V6 + V4) + ")"
    return word


def transform_block(rng, kind):
    words = []
    for _ in range(rng.randint(0, 4)):
        t = pick(rng, ["enc", "enc", "auth", "prf", "group", "esn", "noesn"])
        if t in ("esn", "noesn"):
            if kind == "ikesa" and rng.random() < 0.8:
                continue
            words.append(t)
            continue
        if t == "prf" and kind == "childsa" and rng.random() < 0.9:
            t = "group"
        w = pick(rng, TRANSFORM_WORDS[t])
        if t == "enc" and kind == "ikesa" and w in ESP_ONLY_ENC and rng.random() < 0.7:
            w = "aes-256"
        if t == "group" and kind == "ikesa" and w == "none" and rng.random() < 0.7:
            w = "modp2048"
        words.append(t + " " + (w if w else '""'))
    if not words and rng.random() < 0.95:
        words.append("enc aes-256")  # an empty ikesa/childsa crashes iked
    return kind + " " + " ".join(words)


def ikev2_rule(rng, case):
    parts = ["ikev2"]
    if rng.random() < 0.5:
        parts.append('"%s"' % pick(rng, ["gw", "site-to-site", "road warrior", "", "x" * 8]))
    if rng.random() < 0.3:
        parts.append(pick(rng, ["quick", "skip", "default"]))
    if rng.random() < 0.6:
        parts.append(pick(rng, ["active", "passive"]))
    if rng.random() < 0.1:
        parts.append("ipcomp")
    if rng.random() < 0.4:
        parts.append(pick(rng, ["tunnel", "transport"]))
    if rng.random() < 0.3:
        parts.append(pick(rng, ["esp", "ah"]))
    family = None
    if rng.random() < 0.25:
        af = pick(rng, ["inet", "inet6"])
        parts.append(af)
        family = 4 if af == "inet" else 6
    if rng.random() < 0.2:
        if rng.random() < 0.5:
            parts.append("proto " + pick(rng, PROTOS))
        else:
            n = rng.randint(1, 4)
            sep = pick(rng, [" ", ", "])
            parts.append("proto { " + sep.join(pick(rng, PROTOS) for _ in range(n)) + " }")
    if rng.random() < 0.03:
        parts.append("rdomain 1")
    flow_family = family if rng.random() < 0.8 else None
    if flow_family is None:
        flow_family = 4 if rng.random() < 0.7 else 6
    nflows = 1 if rng.random() < 0.7 else rng.randint(2, 4)
    for i in range(nflows):
        src = host_word(rng, case, flow_family)
        dst = host_word(rng, case, flow_family, nat_ok=False)
        s = ("from %s" % src) + (" port %s" % pick(rng, PORTS) if rng.random() < 0.12 else "")
        d = ("to %s" % dst) + (" port %s" % pick(rng, PORTS) if rng.random() < 0.12 else "")
        flow = s + " " + d if rng.random() < 0.9 else d + " " + s
        if i > 0 and rng.random() < 0.5:
            parts[-1] += ","
        parts.append(flow)
    r = rng.random()
    peer_family = flow_family if rng.random() < 0.85 else (10 - flow_family)
    peer_family = 6 if peer_family == 6 else 4
    def peerhost():
        return "any" if rng.random() < 0.15 else pick(rng, V4 if peer_family == 4 else V6) + (
            "/24" if rng.random() < 0.05 else "")
    if r < 0.45:
        parts.append("peer " + peerhost())
    elif r < 0.6:
        parts.append("local " + peerhost())
    elif r < 0.8:
        a, b = "peer " + peerhost(), "local " + peerhost()
        parts.append(a + " " + b if rng.random() < 0.5 else b + " " + a)
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        parts.append(transform_block(rng, "ikesa"))
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        parts.append(transform_block(rng, "childsa"))
    r = rng.random()
    if r < 0.15:
        parts.append("srcid " + pick(rng, IDS))
    elif r < 0.25:
        parts.append("dstid " + pick(rng, IDS))
    elif r < 0.35:
        parts.append("srcid %s dstid %s" % (pick(rng, IDS), pick(rng, IDS)))
    if rng.random() < 0.15:
        parts.append("ikelifetime " + pick(rng, TIMES))
    if rng.random() < 0.2:
        lt = "lifetime " + pick(rng, TIMES)
        if rng.random() < 0.5:
            lt += " bytes " + pick(rng, BYTES)
        parts.append(lt)
    r = rng.random()
    if r < 0.35:
        parts.append("psk " + pick(rng, ['"secret"', "secret", '"pass phrase"', "0x0011aabb",
                                         "0xAbCd", "0x123", "0xzz11", "0x", '""', "$psk"
                                         if any(n == "psk" for n, _ in case.macros) else "x"]))
    elif r < 0.4:
        parts.append("psk file " + pick(rng, ["key.hex", "missing.hex", "open.hex"]))
    elif r < 0.48:
        parts.append("eap " + pick(rng, ['"mschap-v2"', "mschap-v2", '"MSCHAP_V2"', '"md5"']))
    elif r < 0.6:
        parts.append(pick(rng, ["rsa", "ecdsa256", "ecdsa384", "ecdsa521", "rfc7427",
                                "signature", "none", "r", "sig", "dsa"]))
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        if rng.random() < 0.8:
            name = pick(rng, ["address", "netmask", "name-server", "netbios-server",
                              "dhcp-server", "protected-subnet", "access-server", "addr",
                              "bogus"])
            fam = 4 if rng.random() < 0.7 else 6
            h = pick(rng, V4 if fam == 4 else V6)
            if rng.random() < 0.2:
                h += "/" + pick(rng, ["24", "64"])
            if rng.random() < 0.05:
                h = "lo"
            parts.append("config %s %s" % (name, h))
        else:
            parts.append("request %s %s" % (pick(rng, ["address", "name-server", "bogus"]),
                                            pick(rng, ["any", "10.0.0.1", "2001:db8::1"])))
    if rng.random() < 0.06:
        parts.append("iface " + pick(rng, ["lo", "nosuch0", "sec0"]))
    r = rng.random()
    if r < 0.1:
        parts.append('tag "%s"' % pick(rng, ["branch", "$name-$id", "t" * 70]))
    elif r < 0.15:
        parts.append("tap " + pick(rng, ["enc0", "enc1", "enc", "enc4294967296", "foo1", "encx"]))
    return parts


def statement(rng, case, depth):
    r = rng.random()
    if r < 0.55:
        return ikev2_rule(rng, case)
    if r < 0.63:
        name = pick(rng, ["lan", "peer", "gw", "psk", "net_a", "x1"])
        value = pick(rng, ['"10.0.0.0/24"', '"192.0.2.1"', "192.0.2.1", '"secret"',
                           '"from 10.0.0.1 to 10.0.0.2"', "a b c", '"2001:db8::1"'])
        case.macros.append((name, value))
        return [name + pick(rng, [" = ", "=", " ="]) + value]
    if r < 0.72:
        return ["set " + pick(rng, SETS)]
    if r < 0.78:
        return ["user " + pick(rng, ['"alice" "wonderland"', '"bob" "x"', '"" "pw"',
                                     '"carol" ""', "dave secret", '"eve"'])]
    if r < 0.83 and depth == 0:
        inc = "inc%d.conf" % len(case.files)
        mode = 0o600 if rng.random() < 0.85 else 0o644
        body = "\n".join(" ".join(statement(rng, case, 1)) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.8:
            body += "\n"
        case.files[inc] = (body, mode)
        return ['include "%s"' % (inc if rng.random() < 0.9 else "missing.conf")]
    if r < 0.88:
        return [pick(rng, ["ike esp from 10.0.0.1 to 10.0.0.2", "flow esp from any to any",
                           "sa esp from 1.1.1.1 to 2.2.2.2 spi 0x1000", "tcpmd5 from a to b",
                           "from 10.0.0.1 to 10.0.0.2", "tunnel esp", "transport ah"])]
    if r < 0.93:
        return ["# " + pick(rng, ["comment", "ikev2 from 1.1.1.1 to 2.2.2.2", "x \\"])]
    return [""]


def mutate(rng, words):
    """Break a statement the way people do."""
    tokens = " ".join(words).split(" ")
    kind = rng.random()
    if not tokens:
        return words
    i = rng.randrange(len(tokens))
    if kind < 0.25:
        del tokens[i]
    elif kind < 0.4:
        tokens.insert(i, tokens[i])
    elif kind < 0.6:
        tokens.insert(i, pick(rng, KEYWORDS))
    elif kind < 0.7:
        j = rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif kind < 0.78:
        tokens.insert(i, pick(rng, ["{", "}", "(", ")", ",", "=", "/", "!", "<", "-", "$",
                                    "$undefined", "\\", "12ab", "-7", "99999999999999999999"]))
    elif kind < 0.86:
        tokens[i] = tokens[i] + pick(rng, ["x", "1", "-", ".", "/", ":"])
    elif kind < 0.92:
        tokens.insert(i, '"' + pick(rng, ["open", "a b", ""]))  # an unclosed quote
    else:
        tokens.insert(i, pick(rng, ["\\\n", "\\\n  ", "#", "\t"]))
    return [" ".join(tokens)]


def layout(rng, words):
    """Join a statement's words, sometimes over continued lines."""
    out = ""
    for k, w in enumerate(words):
        if k == 0:
            out = w
        elif rng.random() < 0.08:
            out += " \\\n\t" + w
        else:
            out += pick(rng, [" ", " ", " ", "  ", "\t"]) + w
    return out


def make_case(rng, broken_share=0.4, clean_share=0.6):
    case = Case(rng.random() < clean_share)
    _current["clean"] = case.clean
    lines = []
    count = rng.randint(1, 5)
    # About broken_share of the files get one statement broken on purpose
    # (many more turn out wrong by themselves: values out of range, peers
    # of the wrong family).
    broken = rng.randrange(count) if rng.random() < broken_share and not case.clean else -1
    for k in range(count):
        words = statement(rng, case, 0)
        if k == broken:
            words = mutate(rng, words)
        lines.append(layout(rng, words))
    text = "\n".join(lines)
    if rng.random() < 0.92:
        text += "\n"
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n", 1)
    if any("psk file key.hex" in l or "psk file open.hex" in l for l in lines) or rng.random() < 0.02:
        case.files["key.hex"] = (pick(rng, ["00112233", "0011223\n", "zz", "4142\n"]), 0o600)
        case.files["open.hex"] = ("00112233", 0o644)
    return text, case.files
