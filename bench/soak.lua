-- bench/soak.lua: wrk spreads its requests over several widget paths and reports its figures in one line.
--
--   wrk -t2 -c256 -d600s --timeout 5s -s bench/soak.lua http://127.0.0.1:PORT -- /path1 /path2 ...
--
-- Each thread hands out the paths in turn to its connections (threads start at different paths): equal shares.
-- No response() callback: with one, wrk would hand every body to Lua and measure Lua instead of the server.
-- done() prints one "SOAK key=value ..." line that bench/soak_wrk.py parses: requests, duration, bytes,
-- socket errors (connect, read, write, timeout), status errors (answers >= 400) and latency percentiles.

local paths = {}
local next_index = 1
local started = 0

function setup(thread)
  thread:set("offset", started)
  started = started + 1
end

function init(args)
  for _, path in ipairs(args) do
    paths[#paths + 1] = path
  end
  if #paths == 0 then
    paths[1] = "/"
  end
  -- Each thread starts at a different path (offset is set by setup() above, in the main script state).
  next_index = ((offset or 0) * 7 % #paths) + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d timeout=%d status=%d"
      .. " p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency:percentile(99.9),
    latency.max, latency.mean
  ))
end
