pytest_plugins = ["tests.testbot", "tests.fakes.models"]
