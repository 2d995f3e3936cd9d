-- GET by id over ids read from IDS_FILE (one per line). BENCH_TOKEN from the environment.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
request = function()
  return wrk.format("GET", "/managedTenantOperationResults/" .. ids[math.random(1, #ids)])
end
