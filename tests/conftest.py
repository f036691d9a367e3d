pytest_plugins = ["tests.testbot", "tests.fakes.slack", "tests.fakes.telegram"]
