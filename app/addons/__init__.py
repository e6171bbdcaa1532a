"""Add-ons: extras a backer adds to a pledge (a second copy, a playmat), priced and limited
like reward tiers, shipped like them."""
