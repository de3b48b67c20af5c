"""Bean There, a coffee shop in euros, on Maya's payment tools four ways (docs/integrate.md)."""
