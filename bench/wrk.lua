-- wrk script for the Rapport benchmark: optional POST body with a fresh idempotency key per
-- request (BENCH_BODY holds the form with "{key}" where the key goes), and a JSON summary line.
local counter = 0
local run = tonumber(os.getenv("BENCH_RUN") or "1")
local thread_count = 0

setup = function(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
local body = os.getenv("BENCH_BODY")

request = function()
  if body == nil or body == "" then
    return wrk.format(nil)
  end
  counter = counter + 1
  local key = string.format("%08x-%04x-4000-8000-%012x", run, tid or 0, counter)
  -- headers given here replace the -H ones, so copy those (the cookie) first
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", nil, headers, (body:gsub("{key}", key)))
end

done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
