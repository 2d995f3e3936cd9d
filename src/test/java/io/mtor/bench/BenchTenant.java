package io.mtor.bench;

/** Prints the GUID of generated tenant N, for scripts that query what {@link LoadStore} wrote. */
public final class BenchTenant {

  private BenchTenant() {
  }

  public static void main(String[] args) {
    System.out.println(LoadStore.tenant(Integer.parseInt(args[0])));
  }
}
