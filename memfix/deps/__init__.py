"""deps"""
