#!/bin/sh
# Builds a Java 17 runtime base image from Debian's packages, for when no container registry is reachable (CI, air-gapped
# hosts), and saves it as an image archive that Jib takes as its base:
#
#   base=$(deploy/container/build-base.sh)
#   mvn -B -Pcontainer package -DskipTests -Dcontainer.base=tar://$base
#
# With a registry, skip this: the default base is eclipse-temurin:17-jre.
#
# Needs root, mmdebstrap and podman (apt-get install -y mmdebstrap podman runc) and Debian's package mirror.
# Prints the archive's path (the last line of stdout); everything else goes to stderr.
# The archive is cached: a second run returns at once unless this script changed or the archive is older than
# MAILINTAKE_BASE_MAX_AGE_DAYS (default 7, so security updates are picked up).
#
# Environment:
#   MAILINTAKE_BASE_CACHE         cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/mail-intake)
#   MAILINTAKE_BASE_MAX_AGE_DAYS  rebuild when the cached archive is older (default 7)
#   DEBIAN_SUITE                  default bookworm
#   DEBIAN_MIRROR                 default http://deb.debian.org/debian (security updates from .../debian-security)
set -eu

suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
packages=openjdk-17-jre-headless,ca-certificates
image=localhost/mail-intake-base:$suite-jre17
cache=${MAILINTAKE_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mail-intake}
max_age=${MAILINTAKE_BASE_MAX_AGE_DAYS:-7}
out=$cache/base-$suite-jre17.tar

for tool in mmdebstrap podman sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-base.sh: $tool is missing (apt-get install -y mmdebstrap podman runc)" >&2; exit 2; }
done

# what the archive was built from: this script, the suite, the mirrors and the packages
key=$( { cat "$0"; echo "$suite $mirror $security $packages"; } | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] \
    && [ -z "$(find "$out" -mtime +"$max_age" 2>/dev/null)" ]; then
  echo "build-base.sh: cached $out (key $key)" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

# --variant=apt: Essential packages + apt; documentation (but the copyright files), man pages and translations are
# left out (update-alternatives still needs /usr/share/man/man1 to exist).
# The hooks add the user the image runs as (uid 10001, group 0, no login) and the volume mount points, group 0
# writable (the OpenShift convention; Kubernetes' fsGroup also works), and drop apt's caches.
echo "build-base.sh: building $image from Debian $suite ($packages)" >&2
mmdebstrap --variant=apt --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='chroot "$1" useradd --system --uid 10001 --gid 0 --home-dir /data --no-create-home --shell /usr/sbin/nologin mailintake' \
  --customize-hook='mkdir -p "$1/config" "$1/data" && chmod 0775 "$1/data" && chmod 0755 "$1/config"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log' \
  "$suite" "$work/rootfs.tar" \
  "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main" >&2

podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/sh"]' \
  "$work/rootfs.tar" "$image" >&2
rm -f "$out" "$out.key"
podman save --format docker-archive -o "$work/base.tar" "$image" >&2
mv "$work/base.tar" "$out"
echo "$key" > "$out.key"
echo "build-base.sh: built $out ($(du -h "$out" | cut -f1)) in $(( $(date +%s) - started )) s" >&2
echo "$out"
