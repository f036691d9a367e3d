pytest_plugins = ["tests.testbot", "tests.fakes", "tests.dashboard_kit"]
