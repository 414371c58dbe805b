// Filled by the cbom reporter's change (issue 17).
