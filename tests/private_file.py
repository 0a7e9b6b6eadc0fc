"""Configuration files for the tiers: ipsecctl refuses a file that others
may read (it may hold keys), so every file a test writes is 0600."""

import os


def write_private(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path
