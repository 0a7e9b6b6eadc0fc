"""Keys and certificates for the IKE labs, made with the openssl command
the way isakmpd(8) tells an administrator to, and laid out as isakmpd
finds them (see backends/keys/key_directory.h):

    ROOT/private/local.key   ROOT/local.pub   ROOT/certs/   ROOT/ca/
    ROOT/pubkeys/{ipv4,ipv6,fqdn,ufqdn}/<identity>
"""

import os
import subprocess

OPENSSL = "openssl"


def run(*args):
    subprocess.run([OPENSSL] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def key_root(root):
    for d in ("private", "certs", "ca", "pubkeys/ipv4", "pubkeys/ipv6", "pubkeys/fqdn",
              "pubkeys/ufqdn"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "private"), 0o700)
    return root


def host_key(root, kind="rsa"):
    """private/local.key (0600) and local.pub, as OpenBSD's rc makes them
    (RSA; "ec": ECDSA P-256, as iked's package makes its own)."""
    key = os.path.join(root, "private", "local.key")
    if kind == "rsa":
        run("genrsa", "-out", key, "2048")
    else:
        run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    os.chmod(key, 0o600)
    run("pkey", "-in", key, "-pubout", "-out", os.path.join(root, "local.pub"))
    return key


def trust_raw_key(root, other_root, identity, folder="ipv4"):
    """The other host's local.pub, under the identity it shows."""
    with open(os.path.join(other_root, "local.pub")) as f:
        pub = f.read()
    path = os.path.join(root, "pubkeys", folder, identity)
    with open(path, "w") as f:
        f.write(pub)
    return path


def make_ca(ca_dir, name="ipsecctl lab CA", days=30):
    """A CA key and its self-signed certificate (with CA:TRUE)."""
    os.makedirs(ca_dir, exist_ok=True)
    key = os.path.join(ca_dir, "ca.key")
    crt = os.path.join(ca_dir, "ca.crt")
    run("genrsa", "-out", key, "2048")
    run("req", "-x509", "-new", "-key", key, "-days", str(days), "-subj", "/CN=" + name,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
        "keyUsage=critical,keyCertSign,cRLSign", "-out", crt)
    return key, crt


def certify(root, ca, san, name, days=30, start=None):
    """A certificate for ROOT's local.key signed by `ca` (key, crt), with
    subjectAltName `san` ("IP:192.0.2.1", "DNS:gw.example"), in
    ROOT/certs/NAME.crt; the CA's certificate in ROOT/ca. `days` < 0 makes
    one that has already expired."""
    ca_key, ca_crt = ca
    key = os.path.join(root, "private", "local.key")
    csr = os.path.join(root, name + ".csr")
    crt = os.path.join(root, "certs", name + ".crt")
    ext = os.path.join(root, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % san)
    run("req", "-new", "-key", key, "-subj", "/CN=" + name, "-out", csr)
    if days < 0:
        # x509 cannot date a certificate back; `ca` can.
        conf = os.path.join(root, name + ".ca.conf")
        db = os.path.join(root, name + ".db")
        open(db, "w").close()
        with open(conf, "w") as f:
            f.write("[ca]\ndefault_ca = lab\n[lab]\ndatabase = %s\nnew_certs_dir = %s\n"
                    "serial = %s\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\n"
                    "[any]\ncommonName = supplied\n" % (db, root, os.path.join(root, name + ".srl")))
        with open(os.path.join(root, name + ".srl"), "w") as f:
            f.write("01\n")
        run("ca", "-batch", "-config", conf, "-cert", ca_crt, "-keyfile", ca_key, "-in", csr,
            "-out", crt, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
            "-extfile", ext, "-notext")
    else:
        run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-days", str(days), "-extfile", ext, "-out", crt)
    with open(ca_crt) as f:
        with open(os.path.join(root, "ca", "ca.crt"), "w") as g:
            g.write(f.read())
    return crt


def rfc3110(pub_pem_path):
    """An RSA public key as libreswan's rsasigkey takes it: "0s" and the
    base64 of RFC 3110's exponent length, exponent and modulus."""
    import base64
    text = subprocess.run([OPENSSL, "rsa", "-pubin", "-in", pub_pem_path, "-noout", "-text"],
                          check=True, stdout=subprocess.PIPE).stdout.decode()
    modulus_hex = "".join(
        line.strip().replace(":", "") for line in
        text.split("Modulus:")[1].split("Exponent:")[0].splitlines() if line.strip())
    modulus = bytes.fromhex(modulus_hex).lstrip(b"\0")
    exponent_value = int(text.split("Exponent:")[1].split()[0])
    exponent = exponent_value.to_bytes((exponent_value.bit_length() + 7) // 8, "big")
    return "0s" + base64.b64encode(bytes([len(exponent)]) + exponent + modulus).decode()
