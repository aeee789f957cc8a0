"""Star widgets (badge, product stars, latest reviews): coming with the widgets issue."""
