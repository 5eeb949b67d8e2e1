#!/bin/sh
# Starts fcemu's Java agent: one JVM per instance, started once.
# The JVM cannot remove a variable from its own environment, so the instance's secret (FCEMU_AGENT_TOKEN) is moved
# into a file only this user can read (mktemp makes it 0600, under the instance's private /tmp) and out of the
# environment before java starts; the agent reads the file and deletes it before any of the function's code loads.
# FCEMU_JDWP_ADDRESS (set by the emulator under FCEMU_DEBUG) starts the JVM with a JDWP debugger listening there.
# FCEMU_FC_RELAY (FC's endpoint relay) is passed to the agent as a property and removed from the environment.
set -eu
token_file=$(mktemp /tmp/.fcemu-agent-token.XXXXXX)
printf '%s' "${FCEMU_AGENT_TOKEN:-}" > "$token_file"
unset FCEMU_AGENT_TOKEN
debug=
if [ -n "${FCEMU_JDWP_ADDRESS:-}" ]; then
  debug="-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=$FCEMU_JDWP_ADDRESS"
fi
unset FCEMU_JDWP_ADDRESS
# FC's endpoint relay's routes (fcemu.agent.FcRelay): the agent's, not the function's.
relay=${FCEMU_FC_RELAY:-}
unset FCEMU_FC_RELAY
# Start-up over peak speed, as FC functions are short: the client compiler only (TieredStopAtLevel=1), the serial
# collector (one thread, the least memory), the JDK's and the agent's classes from class-data-sharing archives
# (agent.jsa is made when the image is built; -Xshare:auto runs without it if it does not fit). The heap may take
# 60% of the instance's memory (the JVM's default is 25%). The function's own JVM options: JAVA_TOOL_OPTIONS.
# -XX:-UsePerfData: no hsperfdata file in /tmp (and a little less start-up work).
# FCEMU_JAVA_CDS_DUMP=1 (the Dockerfile's build step) makes that archive instead: the agent serves itself a few
# requests and exits (fcemu.agent.Training), with the same options as an instance's, which the archive must match.
# The training accepts a public token, so it runs only as root, as the build's RUN step does: an instance runs as
# 65534, where a function's own variable of that name is ignored (and the agent checks the uid itself, as a
# function's JAVA_TOOL_OPTIONS can set its property; the property is false on the command line, which wins).
archive=/opt/fcemu/java/agent.jsa
cds=-Dfcemu.training=false
if [ "${FCEMU_JAVA_CDS_DUMP:-}" = 1 ] && [ "$(id -u)" = 0 ]; then
  cds="-XX:ArchiveClassesAtExit=$archive -Dfcemu.training=true"
elif [ -f "$archive" ]; then
  cds="$cds -XX:SharedArchiveFile=$archive"
fi
unset FCEMU_JAVA_CDS_DUMP
# shellcheck disable=SC2086 # $debug and $cds: words or none
exec java $debug $cds -Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxRAMPercentage=60 -XX:-UsePerfData \
  -Dfcemu.tokenFile="$token_file" -Dfcemu.fcRelay="$relay" \
  -cp /opt/fcemu/java/fcemu-boot.jar:/opt/fcemu/java/fc-runtime.jar:/usr/share/java/servlet-api.jar \
  fcemu.boot.Main \
  /opt/fcemu/java/fcemu-agent.jar:/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar
