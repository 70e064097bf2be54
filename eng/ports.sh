# Sourced by the server scripts (postgres.sh, dynalite.sh): the one place that picks a port for a local server.
#
# A port is picked below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), where
# the OS never hands out ports on its own. A port picked inside that range could be taken between the check and the
# server's bind by any outgoing connection or any listener on port 0 (the tests' in-process Kafka mock brokers do
# exactly that), and a crashed server restarted on its old port could find it taken.

# The first port of the ephemeral range.
ephemeral_start() {
  local low
  read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  echo "$low"
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a free port between 10000 and the ephemeral range.
free_port() {
  local low=10000 high port
  high="$(ephemeral_start)"
  (( high > low + 1000 )) || high=$((low + 20000))
  for _ in $(seq 1 200); do
    port=$((low + RANDOM % (high - low)))
    if port_is_free "$port"; then echo "$port"; return; fi
  done
  echo "no free port found between $low and $high" >&2
  return 1
}
