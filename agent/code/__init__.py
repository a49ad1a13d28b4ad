"""/code: the workspace, file tools, edit gate and undo, the tool loop and the plain-text format."""
