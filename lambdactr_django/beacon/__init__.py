"""The request side: the beacon's views, and turning a request into a hit.

views -> ratelimit -> capture (clean, signing, classify) -> lambdactr_django.store.save
embed builds the HTML that pages carry to be counted.
"""
