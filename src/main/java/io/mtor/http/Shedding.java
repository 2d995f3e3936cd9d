package io.mtor.http;

import io.mtor.auth.Caller;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Load shedding: a bound on requests in flight (503) and a per-caller rate limit (429), both with Retry-After. */
public final class Shedding {

  private static final Logger LOG = LoggerFactory.getLogger(Shedding.class);
  /** Callers tracked by the rate limiter before idle ones are forgotten. */
  private static final int MAX_CALLERS = 100_000;

  private Shedding() {
  }

  /** At most {@code max} requests in flight in the process; beyond, 503 at once instead of a growing queue. */
  public static Handler<RoutingContext> inFlight(int max) {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicLong shed = new AtomicLong();
    return ctx -> {
      if (inFlight.incrementAndGet() > max) {
        inFlight.decrementAndGet();
        if (shed.getAndIncrement() % 1000 == 0) {
          LOG.warn("Shedding load: {} requests in flight (limit {}), {} shed so far", inFlight.get() + 1, max, shed.get());
        }
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
        GraphErrors.send(ctx, 503, "serviceUnavailable", "The service is busy; retry after a second.", null, List.of());
        return;
      }
      ctx.addEndHandler(done -> inFlight.decrementAndGet());
      ctx.next();
    };
  }

  /**
   * A token bucket per caller: the token's tenant and user or app when there is one, else the client address.
   * {@code ratePerSecond} tokens a second, up to {@code burst} saved.
   */
  static Handler<RoutingContext> ratePerCaller(int ratePerSecond, int burst) {
    Buckets buckets = new Buckets(ratePerSecond, burst);
    return ctx -> {
      double wait = buckets.take(callerKey(ctx));
      if (wait > 0) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf((long) Math.ceil(wait)));
        GraphErrors.send(ctx, 429, "tooManyRequests", "Too many requests from this caller (limit " + ratePerSecond
          + " a second); retry later.", null, List.of());
        return;
      }
      ctx.next();
    };
  }

  /** Token buckets by key, forgetting idle keys so that their number stays bounded. */
  static final class Buckets {
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final int ratePerSecond;
    private final int burst;

    Buckets(int ratePerSecond, int burst) {
      this.ratePerSecond = ratePerSecond;
      this.burst = burst;
    }

    /** Takes a token from {@code key}'s bucket; returns 0, or the seconds until one is available. */
    double take(String key) {
      return bucket(key).take(ratePerSecond, burst);
    }

    /** Whether {@code key}'s bucket is empty now (takes nothing). */
    boolean empty(String key) {
      Bucket bucket = buckets.get(key);
      return bucket != null && bucket.peek(ratePerSecond, burst) < 1;
    }

    private Bucket bucket(String key) {
      if (buckets.size() > MAX_CALLERS) {
        long stale = System.nanoTime() - 60_000_000_000L;
        buckets.values().removeIf(bucket -> bucket.updated < stale);
        if (buckets.size() > MAX_CALLERS) {
          // So many keys active within a minute: forget them all rather than grow (each starts with a full burst).
          buckets.clear();
        }
      }
      return buckets.computeIfAbsent(key, k -> new Bucket(burst));
    }
  }

  /** Who a request counts against: the token's tenant and user or app when there is one, else the client address. */
  static String callerKey(RoutingContext ctx) {
    Caller caller = ctx.get(BearerAuth.CALLER);
    if (caller != null) {
      return caller.tenantId() + "/" + (caller.objectId() != null ? caller.objectId() : caller.appId());
    }
    return ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
  }

  private static final class Bucket {
    private double tokens;
    private volatile long updated = System.nanoTime();

    Bucket(int burst) {
      this.tokens = burst;
    }

    /** The tokens there are now. */
    synchronized double peek(int ratePerSecond, int burst) {
      return Math.min(burst, tokens + (System.nanoTime() - updated) / 1e9 * ratePerSecond);
    }

    /** Takes a token; returns 0, or the seconds until one is available. */
    synchronized double take(int ratePerSecond, int burst) {
      long now = System.nanoTime();
      tokens = Math.min(burst, tokens + (now - updated) / 1e9 * ratePerSecond);
      updated = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (1 - tokens) / ratePerSecond;
    }
  }
}
