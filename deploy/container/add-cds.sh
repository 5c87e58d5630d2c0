#!/bin/sh
# Adds an AppCDS (class-data sharing) archive to the image archive that `mvn -Pcontainer package` made, so that the
# container starts with about half the CPU (docs/operations.md#build-the-image):
#
#   deploy/container/add-cds.sh [target/mail-intake-image.tar]
#
# Java 17 takes only an archive made by the same JVM for the same class path files (their paths, sizes and times), so
# it is made inside the image: a container of the image runs the training start (dev.mailintake.CdsTraining: the
# application with no mailbox, one health request, a clean stop) with -XX:ArchiveClassesAtExit=/app/mail-intake.jsa,
# and is committed over the image's name with the image's own entrypoint and user. The entrypoint passes
# -XX:SharedArchiveFile=/app/mail-intake.jsa when the file exists. Needs podman and runc.
set -eu

tar=${1:-target/mail-intake-image.tar}
[ -f "$tar" ] || { echo "add-cds.sh: $tar does not exist (mvn -B -Pcontainer package -DskipTests first)" >&2; exit 2; }
command -v podman >/dev/null 2>&1 || { echo "add-cds.sh: podman is missing (apt-get install -y podman runc)" >&2; exit 2; }

image=$(podman load -q -i "$tar" | sed -n 's/^Loaded image[^:]*: *//p' | tail -n 1)
[ -n "$image" ] || { echo "add-cds.sh: podman load named no image" >&2; exit 2; }
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")
user=$(podman image inspect --format '{{.Config.User}}' "$image")

container=mail-intake-cds-$$
trap 'podman rm -f "$container" >/dev/null 2>&1 || true' EXIT
# the class path exactly as the entrypoint gives it (the java launcher expands the wildcard, in the same order)
# runc with the open-file and process limits given (where crun or the defaults cannot set rlimits: CONTAINER-NOTES)
podman run --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --name "$container" --user 0 --network none --entrypoint java "$image" \
  -XX:ArchiveClassesAtExit=/app/mail-intake.jsa -Xlog:cds=off -Xlog:cds+dynamic=off \
  -cp "/app/mail-intake-app.jar:/app/libs/*" dev.mailintake.CdsTraining >&2
podman commit -q --change "ENTRYPOINT $entrypoint" --change "USER $user" --change 'CMD []' "$container" "$image" >/dev/null
podman save -q -o "$tar.tmp" "$image"
mv "$tar.tmp" "$tar"
echo "add-cds.sh: $image now holds /app/mail-intake.jsa ($tar)" >&2
