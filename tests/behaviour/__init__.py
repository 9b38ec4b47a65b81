"""Programs run before and after their fix with a fake chat model."""
