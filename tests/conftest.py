pytest_plugins = ["tests.testbot", "tests.fakes", "tests.postgres"]
