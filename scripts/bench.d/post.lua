-- Realistic create bodies: fresh GUIDs and varying fields per request, each with its own client-request-id.
-- BENCH_TOKEN from the environment.
local token = os.getenv("BENCH_TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local counter = 0
-- Each wrk thread gets its own random sequence: with one seed, two threads would send the same ids and bodies.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end
local function guid()
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), math.random(0x8000, 0xbfff), math.random(0, 0xffff), math.random(0, 0x7fffffff))
end
request = function()
  counter = counter + 1
  local body = string.format('{"partnerTenantId":"6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11","partnerUserId":"%s","targetTenantId":"%s","managedTenantOperationId":"applyConditionalAccessPolicy-%d","requestId":"%s","isSuccess":%s,"exception":%s,"executionInfo":"Applied baseline policy to %d users","result":["policyId=%x","usersUpdated=12"]}',
    guid(), guid(), counter % 50, guid(), counter % 10 == 0 and "false" or "true",
    counter % 10 == 0 and '"Forbidden: the partner lacks the delegated admin role"' or "null", counter % 500, counter)
  -- A fresh client-request-id per create, as the Graph SDKs send: the service keeps it as an idempotency key.
  -- CLIENT_REQUEST_ID=0 leaves it out (two index entries fewer per create; the store-growth measurement uses it).
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  if os.getenv("CLIENT_REQUEST_ID") ~= "0" then headers["client-request-id"] = guid() end
  return wrk.format(nil, nil, headers, body)
end
-- PACE_MS (optional): wait this long between requests on each connection, to hold a rate below the peak.
local pace = tonumber(os.getenv("PACE_MS") or "0")
if pace > 0 then delay = function() return pace end end
