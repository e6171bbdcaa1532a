"""Sharing: link previews (OpenGraph, Twitter cards, JSON-LD), share links and a QR code on
project pages, and the sitemap and robots.txt that tell search engines what is public."""
