#!/bin/sh
# PID 1 of the qemu guest in hostfs mode: the host's / comes in read-only
# over 9p and becomes the lower layer of an overlay with a tmpfs on top,
# the guest kernel's modules are laid over the host's, and the command
# named on the kernel command line (ipsecctl.run=PATH, a script on the
# host) runs chrooted in it: the host's charon, iproute2, python3 and
# the build tree, with the stock kernel's ESP underneath. Its exit status
# ends up on the console as "GUEST-EXIT rc=N".
PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
kver=$(uname -r)
for m in virtio_pci 9pnet_virtio 9p overlay xfrm_user af_key esp4 esp6 ah4 ah6 xfrm_ipcomp \
         ipcomp ipcomp6 xfrm4_tunnel xfrm6_tunnel tunnel4 tunnel6 xfrm_interface veth bridge \
         authenc echainiv seqiv gcm ghash-generic aes_generic sha1_generic sha256_generic \
         sha512_generic hmac cbc des_generic deflate ip_gre gre nfnetlink nf_tables nf_conntrack nf_nat \
         nft_chain_nat nft_nat nft_masq nft_ct; do
  modprobe "$m" 2>/dev/null
done
run=$(sed -n 's/.*ipsecctl\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /host /upper /newroot
if ! mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,ro hostroot /host; then
  echo "GUEST-EXIT rc=125 (no 9p share of the host's root)"
  poweroff -f
fi
mount -t tmpfs -o size=256m upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work /newroot
mkdir -p "/newroot/lib/modules/$kver"
mount --bind "/lib/modules/$kver" "/newroot/lib/modules/$kver"
for d in proc sys dev; do mount --bind /$d /newroot/$d; done
mount -t tmpfs run /newroot/run
mkdir -p /newroot/run/netns
# The guest's busybox for what the host lacks (the kernel's modprobe
# helper runs in the initramfs, where busybox is).
mkdir -p /newroot/run/guest-bin
cp /bin/busybox /newroot/run/guest-bin/busybox
hostname guest
chroot /newroot /bin/sh -c "cd /tmp && PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/guest-bin HOME=/root sh $run"
echo "GUEST-EXIT rc=$?"
poweroff -f
