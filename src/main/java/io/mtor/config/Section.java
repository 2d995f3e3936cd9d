package io.mtor.config;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The settings of one component record and how to build the record from them. A record declares its
 * {@link Setting}s as constants, then (after them) its section:
 *
 * <pre>{@code
 * public static final Section<IdempotencySettings> SECTION = Section.of(values ->
 *   new IdempotencySettings(values.get(WINDOW_SECONDS), values.get(CLIENT_REQUEST_ID)));
 * }</pre>
 *
 * <p>The section learns which settings the record has by building it once from the defaults, so a setting is
 * written down in one place only: its constant, read by the record's constructor call. That call must therefore
 * read every setting, each once, whatever the values.
 *
 * @param <C> the settings record
 */
public final class Section<C> {

  /** Reads settings' values for a record's constructor. */
  @FunctionalInterface
  public interface Values {
    <T> T get(Setting<?, T> setting);
  }

  private final Function<Values, C> build;
  private final List<Setting<C, ?>> settings;

  private Section(Function<Values, C> build, List<Setting<C, ?>> settings) {
    this.build = build;
    this.settings = List.copyOf(settings);
  }

  /** The section of the record {@code build} constructs. */
  @SuppressWarnings("unchecked")
  public static <C> Section<C> of(Function<Values, C> build) {
    List<Setting<C, ?>> read = new ArrayList<>();
    build.apply(new Values() {
      @Override
      public <T> T get(Setting<?, T> setting) {
        if (setting == null) {
          throw new IllegalStateException("A section must be declared after the settings it reads");
        }
        if (read.contains(setting)) {
          throw new IllegalStateException(setting + " is read twice");
        }
        read.add((Setting<C, ?>) setting);
        return setting.defaultValue();
      }
    });
    return new Section<>(build, read);
  }

  /** The record's settings, in the order of its constructor. */
  public List<Setting<C, ?>> settings() {
    return settings;
  }

  /**
   * The record from {@code config} (a JSON object in the shape of {@code conf/application.yaml}); absent settings
   * take their defaults.
   *
   * @throws IllegalArgumentException naming the key, the environment variable and the expected form
   */
  public C read(JsonObject config) {
    return build.apply(new Values() {
      @Override
      public <T> T get(Setting<?, T> setting) {
        return setting.read(config);
      }
    });
  }

  /** Puts every setting of {@code component} into {@code config}. */
  public void write(C component, JsonObject config) {
    settings.forEach(setting -> setting.write(component, config));
  }
}
