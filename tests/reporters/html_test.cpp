// Filled by the html reporter's change (issue 17).
