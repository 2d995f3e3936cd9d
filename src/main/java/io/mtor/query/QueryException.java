package io.mtor.query;

/**
 * A query option that cannot be parsed or is not supported. The message is meant for the client, for
 * example {@code $filter: unknown property 'foo' at position 0}: it starts with the option's name and ends
 * with the position when one is known.
 */
public final class QueryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String option;
  private final int position;

  /**
   * @param option   the query option's name, with its {@code $}, e.g. {@code "$filter"}
   * @param position 0-based character offset into the option's value, or -1 when the whole value is wrong
   * @param detail   what is wrong, without the option's name or the position
   */
  public QueryException(String option, int position, String detail) {
    super(option + ": " + detail + (position >= 0 ? " at position " + position : ""));
    this.option = option;
    this.position = position;
  }

  /** The query option's name with its {@code $}, e.g. {@code "$filter"}. */
  public String option() {
    return option;
  }

  /** The 0-based character offset of the problem in the option's value, or -1 if it concerns the whole value. */
  public int position() {
    return position;
  }
}
