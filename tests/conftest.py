pytest_plugins = ["tests.fakes", "tests.postgres", "tests.dashboard_kit", "tests.faces"]
