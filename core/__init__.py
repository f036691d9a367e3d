"""The Mouthpiece agent: config, events, commands, plugins, storage, scheduler, CLI."""
