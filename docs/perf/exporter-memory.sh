#!/bin/bash
# The exporter polling the mock once: poll time, open sessions kept, peak memory.
# Usage (after `cargo build -p segura-cli -p segura-mock`): docs/perf/exporter-memory.sh N
# Writes its scratch files in the current directory.
N=$1
B=${SEGURA_BIN_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/target/debug}
$B/segura-mock --port 0 --sessions $N --seed 7 --client-id demo --client-secret demo-secret > mock.out 2>&1 &
MOCK=$!
sleep 2
URL=$(grep -o 'http://127.0.0.1:[0-9]*' mock.out | head -1)
HOME=$PWD SEGURA_CONFIG=$PWD/none.toml SEGURA_URL=$URL SEGURA_CLIENT_ID=demo SEGURA_CLIENT_SECRET=demo-secret $B/segura sessions exporter --listen 127.0.0.1:0 --interval 600s --no-compression --per-user > exp.out 2> exp.err &
EXP=$!
sleep 1
ADDR=$(grep -o '127.0.0.1:[0-9]*' exp.err | head -1)
for i in $(seq 1 600); do
  if curl -s http://$ADDR/metrics | grep -q '^segura_up 1'; then break; fi
  sleep 0.5
done
curl -s http://$ADDR/metrics > metrics.txt
echo "N=$N"
grep -E '^segura_poll_duration_seconds_sum|^segura_sessions_listed' metrics.txt
echo "open: $(grep '^segura_sessions_active' metrics.txt | awk "{s+=\$NF} END {print s}")"
echo "users: $(grep -c '^segura_user_sessions_active' metrics.txt)"
grep -E 'VmHWM|VmRSS' /proc/$EXP/status
# scrape latency while idle
S=$(date +%s.%N); for i in $(seq 1 100); do curl -s -o /dev/null http://$ADDR/metrics; done; E=$(date +%s.%N)
echo "100 scrapes: $(echo "$E - $S" | bc) s"
kill -TERM $EXP; kill -INT $MOCK; wait
