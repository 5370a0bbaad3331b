-- wrk at a chosen pace: each connection waits ANIPIPE_WRK_DELAY_MS between its requests, so
-- c connections offer about c * 1000 / delay requests per second (scripts/bench-edge uses it for
-- the p99 at half the peak rate; plain wrk only measures at saturation).
local delay_ms = tonumber(os.getenv("ANIPIPE_WRK_DELAY_MS") or "0")
function delay()
  return delay_ms
end
