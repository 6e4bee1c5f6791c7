package io.github.wsrouter.examples;

/** Every scenario of {@link ExampleRunnerServerTest} again, with the runner started with {@code --jakarta}. */
class ExampleRunnerJakartaServerTest extends ExampleRunnerServerTest {

    @Override
    String[] adapterArgs() {
        return new String[] {"--jakarta"};
    }

    @Override
    boolean jakarta() {
        return true;
    }
}
