-- List pages over paths read from LIST_FILE (one path with its query per line: first pages and nextLink pages of
-- every list shape), one at random per request. BENCH_TOKEN from the environment.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local paths = {}
for line in io.lines(os.getenv("LIST_FILE")) do paths[#paths + 1] = line end
request = function()
  return wrk.format("GET", paths[math.random(1, #paths)])
end
