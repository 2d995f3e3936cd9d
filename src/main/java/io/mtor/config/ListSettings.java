package io.mtor.config;

/**
 * List pages.
 *
 * @param defaultPageSize records in a list page without {@code $top}
 * @param maxPageSize     the most records in one list page
 */
public record ListSettings(int defaultPageSize, int maxPageSize) {

  public static final Setting<ListSettings, Integer> DEFAULT_PAGE_SIZE = Setting.integer("list.defaultPageSize",
    "LIST_DEFAULT_PAGE_SIZE", 100, 1, 10_000, "an integer from 1 to list.maxPageSize", ListSettings::defaultPageSize);
  public static final Setting<ListSettings, Integer> MAX_PAGE_SIZE = Setting.integer("list.maxPageSize",
    "LIST_MAX_PAGE_SIZE", 1000, 1, 10_000, ListSettings::maxPageSize);

  public ListSettings {
    if (defaultPageSize > maxPageSize) {
      throw DEFAULT_PAGE_SIZE.invalid(defaultPageSize);
    }
  }

  public static final Section<ListSettings> SECTION = Section.of(v -> new ListSettings(v.get(DEFAULT_PAGE_SIZE),
    v.get(MAX_PAGE_SIZE)));
}
