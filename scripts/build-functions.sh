#!/usr/bin/env bash
# Builds compiled functions offline, each in its own folder (default: every folder of functions/ whose
# function.yaml names a go1 or java runtime; or the folders given):
# - go1: the binary its handler names, from the folder's go.mod and sources (scripts/build-go-function.sh);
# - java8/java11: <folder>/<folder name>.jar from the .java files under <folder>/src, compiled for the runtime's
#   release (--release 8 or 11) against FC's com.aliyun.fc.runtime interfaces, which the runtime provides (as
#   fc-java-core's "provided" scope), plus the jars of <folder>/lib.
# A folder whose output is newer than all of its sources is left as it is. The outputs stay out of git (each
# example's .gitignore).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
interfaces=$root/runtimes/java/src

field() { sed -n "s/^$1:[[:space:]]*\"\{0,1\}\([^\"#]*\)\"\{0,1\}.*/\1/p" "$2" | head -1 | tr -d '[:space:]'; }

fresh() {  # fresh <output> <folder>: the output exists and no source is newer
  [ -e "$1" ] && [ -z "$(find "$2" -type f \( -name '*.go' -o -name 'go.mod' -o -name '*.java' \) -newer "$1" -print -quit)" ]
}

build_java() {
  local folder=$1 release=$2 jar=$1/$(basename "$1").jar classes
  command -v javac >/dev/null || { echo "javac not found (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
  classes=$(mktemp -d)
  local classpath=("$folder"/lib/*.jar)
  [ -e "${classpath[0]}" ] || classpath=()
  # -sourcepath + -implicit:none: the interfaces are compiled against, never into the jar.
  javac --release "$release" -encoding UTF-8 -sourcepath "$interfaces" -implicit:none \
    ${classpath[@]:+-cp "$(IFS=:; echo "${classpath[*]}")"} -d "$classes" $(find "$folder/src" -name '*.java')
  jar --create --file "$jar" -C "$classes" .
  rm -rf "$classes"
}

folders=("$@")
[ ${#folders[@]} -gt 0 ] || folders=("$root"/functions/*/)
for folder in "${folders[@]}"; do
  folder=${folder%/}
  manifest=$folder/function.yaml
  [ -f "$manifest" ] || continue
  runtime=$(field runtime "$manifest")
  case $runtime in
    go1)
      output=$folder/$(field handler "$manifest")
      fresh "$output" "$folder" || { bash "$root/scripts/build-go-function.sh" "$folder" "$output"; echo "built $output"; } ;;
    java8|java11)
      output=$folder/$(basename "$folder").jar
      fresh "$output" "$folder" || { build_java "$folder" "${runtime#java}"; echo "built $output"; } ;;
  esac
done
