pytest_plugins = ["tests.testbot", "tests.fakes", "tests.postgres", "tests.dashboard_kit"]
