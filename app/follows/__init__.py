"""Following a project ("Remind me"): saved projects, and the mails at launch and near the end."""
